-- The PostgreSQL role and database of the gateway (PostgreSQL 14 or newer), run once by a
-- superuser (or a role with CREATEROLE and CREATEDB):
--
--   psql -v ON_ERROR_STOP=1 -v gateway_password="$(cat /root/gateway-db-password)" \
--        -f config/deploy/postgres.sql "postgres://postgres@db.internal:5432/postgres"
--
-- The password is the placeholder gateway_password, given with -v (never written in this
-- file); make one of hex digits, which DATABASE_URL holds without escaping:
--   openssl rand -hex 32 > /root/gateway-db-password
-- The gateway then connects with
--   DATABASE_URL=postgres://gateway:<that password>@db.internal:5432/gateway
-- Optional: -v gateway_role=... and -v gateway_database=... name them otherwise (default
-- gateway and gateway).
--
-- What it makes: a login role that is not a superuser and cannot create roles or databases,
-- and a database it owns, so that it can run the gateway's migrations itself (at every start
-- and with `gateway migrate`: tables in the schema public, drizzle's record of them in the
-- schema drizzle). Nobody else may connect to that database.
--
-- Comments stand on their own lines only.

-- Stop at the first error, whether or not -v ON_ERROR_STOP=1 was given.
\set ON_ERROR_STOP on
\if :{?gateway_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'gateway_password is not set: psql -v gateway_password=... (openssl rand -hex 32)'; END $$;
\endif
\if :{?gateway_role}
\else
\set gateway_role gateway
\endif
\if :{?gateway_database}
\else
\set gateway_database gateway
\endif

CREATE ROLE :"gateway_role" LOGIN PASSWORD :'gateway_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- UTF-8 whatever the server's default (Razer and Mitra send Unicode text), and the C collation:
-- it goes with any encoding and compares text byte by byte, as SQLite does. (Run by a role that
-- is not a superuser, as on a managed service, before PostgreSQL 16: it must be a member of
-- the new role to make it the owner; add GRANT :"gateway_role" TO CURRENT_USER; above.)
CREATE DATABASE :"gateway_database" OWNER :"gateway_role"
    ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;

-- Only its owner (and superusers) may connect.
REVOKE ALL ON DATABASE :"gateway_database" FROM PUBLIC;

-- The schema public must belong to the gateway's role, and no one else may create in it.
-- PostgreSQL 15 and newer make it so by themselves (public belongs to the database's owner,
-- and PUBLIC may not create there); 14 needs it done, in the new database.
SELECT current_setting('server_version_num')::int < 150000 AS gateway_old_server \gset
\if :gateway_old_server
\connect :"gateway_database"
ALTER SCHEMA public OWNER TO :"gateway_role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
\endif
