// The throwaway PostgreSQL server the devnet uses, for tests (initdb + pg_ctl on a free loopback port).
export { type Postgres, postgresBin, postgresMissing, startPostgres } from "@cellar/cli";
