"""agents: liquid networks as Stable-Baselines3 policies, LiquidPPO and robustness evaluation."""
