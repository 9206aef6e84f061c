"""Provider organisations.

For now a provider is the organisation that provider staff accounts belong to: its name and how
to reach it. Onboarding (pending → verified → suspended), regulator data, services and the rating
aggregate arrive with the providers capability, as fields and transitions on this same model.
"""

from django.db import models


class Provider(models.Model):
    name = models.CharField(max_length=200)
    postcode = models.CharField(max_length=10, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name
