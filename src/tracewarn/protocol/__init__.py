"""Sans-I/O protocol core: bytes and numbers in, bytes and numbers out.

No module below this package reads a clock, draws randomness, touches files, a database or the
network of its own: callers pass `now` and random bytes in. Subpackages: `gaen` (key schedule,
export files), `matching`, `risk`, `presence` (check-ins), `errors`.
"""

from tracewarn.protocol.errors import ProtocolError

__all__ = ["ProtocolError"]
