from slmq.cli import main

raise SystemExit(main())
