from accounts.api.routers import Router

from . import api

router = Router()
router.register("plans", api.PlanViewSet, basename="api-plan")

urlpatterns = router.urls
