"""Composition root of the export function."""

from __future__ import annotations

from npsloop.adapters.parking_queue import ParkingQueue
from npsloop.adapters.pseudonym_secret import SecretPseudonymKey
from npsloop.adapters.s3_export import S3Export
from npsloop.services.export import ExportService
from npsloop.wiring.container import component, settings


@component
def export_service() -> ExportService:
    bucket, dlq_url, secret_id, parking_bucket = settings().require(
        "export_bucket", "export_dlq_url", "pseudonym_secret_id", "parking_bucket"
    )
    return ExportService(
        keys=SecretPseudonymKey(secret_id),
        sink=S3Export(bucket),
        parking=ParkingQueue(dlq_url, parked_by="npsloop-export", bucket=parking_bucket),
    )
