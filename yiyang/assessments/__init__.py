"""Assessments: national instruments as versioned data and a pure scoring engine."""
