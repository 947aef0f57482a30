"""Errors a user can cause (and fix): shown as one line, exit code 2."""


class InputError(Exception):
    """Bad input or usage. The message is one line a person can act on."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
