"""Solve a layer-assignment scenario: python run.py [hydra overrides]. See README.md."""

from layerplan.cli import main

if __name__ == "__main__":
    main()
