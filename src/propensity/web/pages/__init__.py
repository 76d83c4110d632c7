"""One APIRouter per page group; web/router.py includes each."""
