import sys
from pathlib import Path

# The generator lives in data/ (a script folder, not an installed package).
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
if str(DATA_DIR) not in sys.path:
    sys.path.insert(0, str(DATA_DIR))
