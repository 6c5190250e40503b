"""Video intake, pose estimation and pose post-processing."""
