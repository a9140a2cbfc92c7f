import sys

from vox_client.cli import main

sys.exit(main())
