"""Console-script entry points: plena-opt and plena-sim."""
