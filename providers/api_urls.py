from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("providers", api.ProviderViewSet, basename="api-provider")
router.register("services", api.ServiceViewSet, basename="api-service")

urlpatterns = router.urls
