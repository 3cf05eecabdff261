"""bankkeys: the signing keys of a remote-banking ("Bank-Client") system."""

__version__ = "0.1.0"
