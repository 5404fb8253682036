from slmq.cli.main import main

raise SystemExit(main())
