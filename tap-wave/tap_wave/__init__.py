"""tap_wave."""
