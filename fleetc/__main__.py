"""``python -m fleetc`` runs the command line."""

from fleetc.cli import main

main()
