"""wave_sandbox."""
