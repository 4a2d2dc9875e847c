"""Recsys: the personalised ranking model, its training and serving, and user profiles."""
