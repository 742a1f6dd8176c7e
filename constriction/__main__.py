"""`python -m constriction` is the `constriction` command."""

import sys

from constriction.cli import main

sys.exit(main())
