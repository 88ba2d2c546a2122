import sys

from autoinformer.cli import main

sys.exit(main())
