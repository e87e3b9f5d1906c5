from forms_index.cli import main

raise SystemExit(main())
