"""The README's first command must keep working: the demo runs and agrees with scikit-learn."""
import subprocess
import sys


def test_demo_runs_and_matches_sklearn(tmp_path):
    # run outside the source tree, as a user would after installing
    result = subprocess.run([sys.executable, "-m", "fastpen", "demo"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("same support as scikit-learn: yes") == 2
    assert "Traceback" not in result.stderr
