"""ReactiveX views of the client: connection status, events and subscriptions as observables."""

from __future__ import annotations
