// Keeps a long job's progress page current: polls its JSON and reloads when it has finished.
const box = document.getElementById("whatif-progress");
if (box) {
  const bar = document.getElementById("whatif-progress-bar");
  const text = document.getElementById("whatif-progress-text");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      const run = await response.json();
      bar.value = run.percent;
      bar.textContent = `${run.percent}%`;
      const what = box.dataset.progressNoun || "clients priced";
      text.textContent = `${run.done} of ${run.total || "…"} ${what} (${run.percent}%).`;
      if (run.status === "done" || run.status === "failed") {
        window.location.reload();
        return;
      }
    } catch (error) {
      text.textContent = "Could not check progress; this page will try again.";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}
