{#
  The dbt package's own run hooks (its dbt_project.yml), on in every project that installs the package:
    on-run-start: ad_duckdb.check_training_order(): the run fails before any node runs when a node calls a model by
      its bare name ('tx_ae') that a Python model of the same run trains, without a ref() to that model (dbt may run
      it first: it would score with the version before this run's training, or fail on a new database). A view's
      or ephemeral model's calls count as the calls of the nodes that read it (its query runs there). Names from
      var() and config.get() are read; one it cannot read (a {% set %}) is named in a warning. A selected view whose
      calls its code names is also checked there, as on-run-end checks it, so a wrong call fails before any node runs.
    on-run-end: ad_duckdb.check_built_views(results): every view the run built that calls anomaly_score, is_anomaly,
      ... is checked as the post-hook ad_duckdb.check_calls() checks one, and a wrong call fails the run (a view the
      post-hook checked is not checked again).
  Both are silent without the plugin (module: ad_duckdb.dbt) in the profile or on a target that is not DuckDB, and
  cost a query only when a node calls the functions. To turn them off, in dbt_project.yml:  vars: {ad_duckdb_checks: false}
  (or scoped: vars: {my_project: {ad_duckdb_checks: false}} or vars: {ad_duckdb: {ad_duckdb_checks: false}})
#}
{% macro checks_on() %}
  {%- set on = var('ad_duckdb_checks', none) -%}
  {#- after --vars, the global var and the var scoped to this package: the var scoped to the root project (adapter:
      not defined where the macro is rendered without dbt) -#}
  {%- if on is none and adapter is defined -%}
    {%- set on = ad_duckdb.scoped_var(project_name, 'ad_duckdb_checks') -%}
  {%- endif -%}
  {#- target.type: a project built on DuckDB in dev and another warehouse in prod has no duckdb_functions() there -#}
  {{ return(execute and not flags.EMPTY and target.type == 'duckdb' and on is not false
            and (on | string | lower) not in ['false', '0', 'no']) }}
{% endmacro %}

{#- The value the root dbt_project.yml gives var `name` in the vars it scopes to `package` (vars: {my_project: {name:
    ...}}), read as var() reads it (a string rendered: "{{ env_var('AD_CHECKS', 'true') }}"), or none, and none when
    --vars sets it (--vars comes first). Why: var() in this package's hooks reads --vars, the global vars and those
    scoped to this package, never those scoped to the root project, the form a project that scopes its vars writes.
    adapter.config is the run's project config (dbt's RuntimeConfig): vars.vars, the root dbt_project.yml's vars as
    written; cli_vars, the --vars -#}
{% macro scoped_var(package, name) %}
  {%- set config = adapter.config -%}
  {%- set vars = config.vars.vars if config.vars is defined and config.vars.vars is mapping else {} -%}
  {%- set scoped = vars.get(package) -%}
  {%- if scoped is not mapping or name not in scoped
         or (config.cli_vars is mapping and name in config.cli_vars) -%}{{ return(none) }}{%- endif -%}
  {{ return(render(scoped[name]) if scoped[name] is string else scoped[name]) }}
{% endmacro %}

{% macro has_function(name) %}
  {%- call statement('ad_duckdb_has_function', fetch_result=True, auto_begin=False) -%}
    select count(*) from duckdb_functions() where function_name = '{{ name }}'
  {%- endcall -%}
  {{ return(load_result('ad_duckdb_has_function')['data'][0][0] > 0) }}
{% endmacro %}

{% macro check_training_order() %}
  {%- if not ad_duckdb.checks_on() -%}{{ return('') }}{%- endif -%}
  {%- set nodes = [] -%}
  {%- set found = [] -%}
  {%- for n in graph.nodes.values() -%}
    {%- set code = n.raw_code or '' -%}
    {#- or []: a seed's depends_on has no nodes (its Undefined stopped tojson, and with it every run of a project
        with a seed) -#}
    {#- lower: SQL written in capitals (ANOMALY_SCORE('tx_ae', ...)) calls the functions too -#}
    {%- set relevant = 'anomaly' in code | lower or 'train' in code -%}
    {#- the values of the var()s its code reads (a name in '{{ var("ad_model") }}'), and its config (what
        dbt.config.get() and config.get() read): the check sees the names they give -#}
    {%- set values = {} -%}
    {%- for part in (code.split('var(')[1:] if relevant else []) -%}
      {%- set p = part.lstrip() -%}
      {%- if p[:1] in ['"', "'"] -%}
        {%- set key = p[1:].split(p[:1])[0] -%}
        {#- as the node reads it: the var its project's scope gives first, then what var() sees here -#}
        {%- set scoped = ad_duckdb.scoped_var(n.package_name, key) -%}
        {%- do values.update({key: scoped if scoped is not none else var(key, none)}) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if relevant -%}{%- do found.append(n.unique_id) -%}{%- endif -%}
    {%- do nodes.append({'id': n.unique_id, 'name': n.name, 'package': n.package_name, 'path': n.original_file_path,
                         'python': n.language == 'python', 'deps': n.depends_on.nodes or [],
                         'materialized': n.config.materialized if n.config is defined else none,
                         'code': code if relevant else '', 'vars': values,
                         'config': n.config if relevant and n.config is defined else {}}) -%}
  {%- endfor -%}
  {%- if not found or not ad_duckdb.has_function('check_anomaly_run_start') -%}{{ return('') }}{%- endif -%}
  {%- call statement('ad_duckdb_check_order', fetch_result=True, auto_begin=False) -%}
    select check_anomaly_run_start('{{ tojson(nodes) | replace("'", "''") }}',
                                   '{{ tojson(selected_resources | list) | replace("'", "''") }}')
  {%- endcall -%}
  {%- set said = fromjson(load_result('ad_duckdb_check_order')['data'][0][0]) -%}
  {#- a name it cannot read (a {% set %}, a column): a warning saying what was not checked, not a silent pass -#}
  {%- for note in said['notes'] -%}{%- do exceptions.warn(note) -%}{%- endfor -%}
  {%- if said['problem'] -%}{{ exceptions.raise_compiler_error(said['problem']) }}{%- endif -%}
  {{ return('') }}
{% endmacro %}

{% macro check_built_views(results) %}
  {%- if not ad_duckdb.checks_on() -%}{{ return('') }}{%- endif -%}
  {%- set views = [] -%}
  {%- for r in results if r.node is defined and r.node.resource_type == 'model' and r.status == 'success'
                         and r.node.config.materialized == 'view'
                         and 'anomaly' in (r.node.compiled_code or '') | lower -%}
    {%- do views.append([r.node.database, r.node.schema, r.node.alias, r.node.relation_name]) -%}
  {%- endfor -%}
  {%- if not views or not ad_duckdb.has_function('check_anomaly_views') -%}{{ return('') }}{%- endif -%}
  {%- call statement('ad_duckdb_check_views', fetch_result=True, auto_begin=False) -%}
    select check_anomaly_views('{{ tojson(views) | replace("'", "''") }}')
  {%- endcall -%}
  {%- set said = fromjson(load_result('ad_duckdb_check_views')['data'][0][0]) -%}
  {%- for note in said['notes'] -%}{{ log("ad_duckdb.check_calls: " ~ note, info=True) }}{%- endfor -%}
  {#- the hook's SQL fails (the run's on-run-end ERROR, exit code 1), naming every view that reads wrong -#}
  {%- if said['failed'] -%}
    {{ return("select error('" ~ (said['failed'] | join(' | ')) | replace("'", "''") ~ "')") }}
  {%- endif -%}
  {{ return('') }}
{% endmacro %}
