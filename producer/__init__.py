"""The slmq client SDK: ``from producer import FleetClient``. Never imports torch."""

from producer.client import FleetClient, TaskHandle
from producer.router import RoutedTask, Router

__all__ = ["FleetClient", "RoutedTask", "Router", "TaskHandle"]
