"""``python -m api.publish JOB_ID``: the build process of one publish job."""

from api.publish.runner import main

raise SystemExit(main())
