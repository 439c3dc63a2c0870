{#
  ad_duckdb.check_calls: fail a view model's build when it calls anomaly_score, is_anomaly, ... with a model that is
  not stored, a threshold the model lacks, or another number of feature arguments than the model takes. A view runs
  its query only when it is read, so such a view built OK and failed later, for whoever read it. Each call that
  names its model in the SQL ('tx_ae', 'tx_ae@3', or a var() rendered into one) is run once on NULLs; one whose model
  comes from a column (m.model_ref) once per model name the column holds; calls it cannot check are named in the log.
  A table model is left alone (its calls ran when it was built). The package's on-run-end runs the same check on
  every view the run built (but those this post-hook checked); this post-hook fails the view's own node instead, before
  the nodes after it build.
  Needs the plugin (module: ad_duckdb.dbt) in the profile; does nothing on a target that is not DuckDB. For every
  model of a project, in dbt_project.yml:
    models:
      my_project:
        +post-hook: "{{ ad_duckdb.check_calls() }}"
#}
{% macro check_calls(relation=none) %}
  {#- target.type: a project built on DuckDB in dev and another warehouse in prod has no duckdb_functions() there -#}
  {%- if not execute or flags.EMPTY or target.type != 'duckdb' -%}{{ return('') }}{%- endif -%}
  {%- set rel = relation if relation is not none else this -%}
  {%- if rel is none -%}{{ return('') }}{%- endif -%}
  {%- call statement('ad_duckdb_plugin', fetch_result=True, auto_begin=False) -%}
    select count(*) from duckdb_functions() where function_name = 'check_anomaly_calls'
  {%- endcall -%}
  {%- if load_result('ad_duckdb_plugin')['data'][0][0] == 0 -%}
    {{ exceptions.raise_compiler_error(
         "ad_duckdb.check_calls needs the ad_duckdb dbt plugin in the profile: add "
         ~ "`plugins: [{module: ad_duckdb.dbt}]` under the output this run uses (--target) in profiles.yml.") }}
  {%- endif -%}
  {#- the view's SQL read on the node's own cursor: a post-hook runs in the node's transaction, before it commits -#}
  {%- call statement('ad_duckdb_check_calls', fetch_result=True, auto_begin=False) -%}
    select check_anomaly_calls(sql, '{{ rel | string | replace("'", "''") }}') from duckdb_views()
    where database_name = '{{ rel.database | replace("'", "''") }}' and schema_name = '{{ rel.schema | replace("'", "''") }}'
      and view_name = '{{ rel.identifier | replace("'", "''") }}'
  {%- endcall -%}
  {%- set said = load_result('ad_duckdb_check_calls')['data'] -%}
  {%- if said and said[0][0] and 'not checked' in said[0][0] -%}
    {{ log("ad_duckdb.check_calls: " ~ rel ~ ": " ~ said[0][0], info=True) }}
  {%- endif -%}
  {{ return('') }}
{% endmacro %}
