import sys

try:
    from autoinformer.cli import main
except KeyboardInterrupt:  # Ctrl-C while the commands are still being imported
    sys.exit(130)

sys.exit(main())
