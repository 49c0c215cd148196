/*
 * dashboard: the one static HTML page served at / — inline CSS and JS, no external assets,
 * polling /health and /api/levels every two seconds and rendering them as tables.
 */
#ifndef SUPERVISOR_DASHBOARD_H
#define SUPERVISOR_DASHBOARD_H

/* The page (static, NUL-terminated). */
const char *dashboard_html(void);

#endif
