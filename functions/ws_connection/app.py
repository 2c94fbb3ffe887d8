"""The status push's WebSocket API (`$connect`, `$disconnect`): a browser listens to its
payment's status changes with the payment's client secret (paygate.push)."""

from paygate import sockets, wiring
from paygate.settings import ConnectionSettings, load_settings

lambda_handler = sockets.connections(wiring.connection_gate(load_settings(ConnectionSettings)))
