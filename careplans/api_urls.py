from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter(trailing_slash=True)
router.register("plans", api.PlanViewSet, basename="api-plan")

urlpatterns = router.urls
