import sys

from policies.mutation.cli import main

sys.exit(main())
