"""A Python client for the Vox API, and the `vox` command built on it."""

from vox_client.client import Client, JobFailed, VoxError
from vox_client.models import (
    AggregationRun,
    ExportJob,
    ImportJob,
    ImportLineError,
    ItemResult,
    Project,
    RaterScore,
)

__all__ = [
    "AggregationRun",
    "Client",
    "ExportJob",
    "ImportJob",
    "ImportLineError",
    "ItemResult",
    "JobFailed",
    "Project",
    "RaterScore",
    "VoxError",
]
