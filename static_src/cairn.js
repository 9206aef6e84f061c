// Starts GOV.UK Frontend's components (error summary focus, service navigation toggle...).
import { initAll } from "./govuk/govuk-frontend.min.js";

initAll();
