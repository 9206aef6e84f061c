from accounts.api.routers import Router

from . import api

router = Router()
router.register("providers", api.ProviderViewSet, basename="api-provider")
router.register("services", api.ServiceViewSet, basename="api-service")

urlpatterns = router.urls
