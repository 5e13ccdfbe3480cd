"""Studying worlds: sweeps, statistics, reports and plots."""
