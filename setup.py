"""Package discovery: the repository's folders map onto installed package names.

imu_knee/ -> imu_knee, gui/ -> imu_knee_gui (never a generic top-level ``gui``),
firmware_config/ -> imu_knee.firmware_config. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup


def packages_under(name: str, folder: str) -> list[str]:
    return [name] + [f"{name}.{sub}" for sub in find_packages(folder)]


PACKAGE_DIR = {"imu_knee": "imu_knee", "imu_knee_gui": "gui",
               "imu_knee.firmware_config": "firmware_config"}

setup(
    packages=packages_under("imu_knee", "imu_knee") + packages_under("imu_knee_gui", "gui")
    + ["imu_knee.firmware_config"],
    package_dir=PACKAGE_DIR,
)
