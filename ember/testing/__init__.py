"""Test support that other packages reuse: the op spec list (``opspecs``) and the
checks that run it (``harness``). Imports numpy and ember only (never torch)."""
