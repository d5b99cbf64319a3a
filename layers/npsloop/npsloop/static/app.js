/* npsloop web app: shared behaviour of the staff pages. */
