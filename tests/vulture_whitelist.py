"""Names vulture (``vulture kadr_cli tests/vulture_whitelist.py --min-confidence 60``) reports
as unused that are used where it can't see, each with the reason. Not a test module."""
import kadr_cli
from kadr_cli.checksums import sha256_of
from kadr_cli.parts import PartDone
from kadr_cli.state import UploadState

kadr_cli.__getattr__  # PEP 562 module hook: `from kadr_cli import Uploader` loads it lazily
PartDone.parts_total  # public: on_part_done callbacks read it
UploadState.version  # written by asdict() into every state file, checked by StateStore.load
UploadState.upload_id  # kept in the state file (asdict) for a person looking at a stuck upload
sha256_of  # only tests call it (tests/test_cli_upload.py); the uploader hashes in BackgroundHash
