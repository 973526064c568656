"""Users inside the database: the catalog model the 5xx rules read, the catalog queries, and
(behind the optional ``db`` extra) the connections that run them."""
