"""`id__any_of=<array subquery or list of ids>`: `id = ANY(ARRAY(SELECT ...))`, or `id = ANY(%s::bigint[])`
with the ids bound as one array, on PostgreSQL.

Matching services by provider name through `provider_id = ANY(ARRAY(SELECT id ... WHERE name %> q))`
lets PostgreSQL use the trigram index once and then the services' own indexes; an OR across the
provider join cannot use either (bench/search.py measured 880 ms → 42 ms for a count).

A list of ids already found is one array parameter rather than an `IN` list of thousands, cast to
bigint[] (psycopg would otherwise type small ids as smallint[]); its values are visible to the
planner, the subquery's are not.
"""

from django.db.models import BigAutoField, Lookup


@BigAutoField.register_lookup
class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if isinstance(self.rhs, list | tuple):
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, [int(pk) for pk in self.rhs]]
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
