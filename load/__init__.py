"""The load harness: bounded scenarios against a server on 127.0.0.1, compared with the bare library."""
