"""What-if runs: re-pricing every client's latest completed assessment under a draft scheme, as a
background task with progress, before an administrator publishes it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .schemes import RasScheme


class WhatIfStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class WhatIfRun(models.Model):
    """Re-pricing every client's latest completed assessment under a draft scheme. Changes no
    budget: the result is a summary and a per-client CSV."""

    scheme = models.ForeignKey(RasScheme, on_delete=models.CASCADE, related_name="whatif_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=WhatIfStatus.choices, default=WhatIfStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    csv_file = models.FileField(upload_to="whatif/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"What-if {self.pk} under {self.scheme}"

    @property
    def percent_done(self) -> int:
        if self.status == WhatIfStatus.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0
