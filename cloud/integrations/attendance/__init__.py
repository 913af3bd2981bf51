"""Attendance: per person and working day (in the site's timezone, from its day boundary), the first entry,
the last exit or last time seen, the doors used, and whether the day's log is incomplete."""
