from genoscreen.cli import main

raise SystemExit(main())
