"""`ad-duckdb serve`: the PostgreSQL JDBC driver's DatabaseMetaData queries (DBeaver's and Metabase's schema
browsers, Tableau's table list), replayed verbatim through psycopg against a real server.

The SQL texts below are what PgJDBC 42.7.13 sent to the server for getSchemas, getPrimaryKeys, getIndexInfo,
getImportedKeys / getExportedKeys (and its max_index_keys lookup before them), getFunctions, getFunctionColumns,
getTypeInfo and getBestRowIdentifier, captured from the server with the real driver (the driver writes $n for its
"?" parameters). They run here as the driver runs them: in the extended protocol with parameters, prepared again
(the driver names a server-side statement from its fifth run), and the parameterless ones also as a simple Query.
Every answer is checked against what DuckDB holds (the `shop` database of test_server_catalog): keys and indexes
where the tables have them, no rows where they have none.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import psycopg
import pytest
from test_server_catalog import shop

from test_server import Server, serve

__all__ = ["shop"]  # the fixture, imported for pytest

GET_SCHEMAS = (
    'SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname '
    "<> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ "
    "'^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_')) "
    ' ORDER BY "TABLE_SCHEM"'
)

GET_PRIMARY_KEYS = (
    'SELECT        result.TABLE_CAT AS "TABLE_CAT",        result.TABLE_SCHEM AS "TABLE_SCHEM",        result.TABLE_NAME '
    'AS "TABLE_NAME",        result.COLUMN_NAME AS "COLUMN_NAME",        result.KEY_SEQ AS "KEY_SEQ",        result.PK_NAME '
    'AS "PK_NAME"FROM      (SELECT current_database() AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, '
    'a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(con.conkey)).n AS KEY_SEQ, con.conname AS PK_NAME, '
    '  information_schema._pg_expandarray(con.conkey) AS KEYS, a.attnum AS A_ATTNUM FROM pg_catalog.pg_constraint con '
    '  JOIN pg_catalog.pg_class ct ON (con.conrelid = ct.oid)   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace '
    "= n.oid)   JOIN pg_catalog.pg_attribute a ON (a.attrelid = ct.oid) WHERE con.contype = 'p'  AND n.nspname = $1 "
    'AND ct.relname = $2 ) result where  result.A_ATTNUM = (result.KEYS).x  ORDER BY result.table_name, result.pk_name, '
    'result.key_seq'
)

GET_INDEX_INFO = (
    'SELECT     tmp.TABLE_CAT AS "TABLE_CAT",     tmp.TABLE_SCHEM AS "TABLE_SCHEM",     tmp.TABLE_NAME AS "TABLE_NAME", '
    '    tmp.NON_UNIQUE AS "NON_UNIQUE",     tmp.INDEX_QUALIFIER AS "INDEX_QUALIFIER",     tmp.INDEX_NAME AS "INDEX_NAME", '
    '    tmp.TYPE AS "TYPE",     tmp.ORDINAL_POSITION AS "ORDINAL_POSITION",     trim(both \'"\' from pg_catalog.pg_get_indexdef(tmp.CI_OID, '
    'tmp.ORDINAL_POSITION, false)) AS "COLUMN_NAME",   CASE tmp.AM_NAME     WHEN \'btree\' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION '
    '- 1] & 1::smallint       WHEN 1 THEN \'D\'       ELSE \'A\'     END     ELSE NULL   END AS "ASC_OR_DESC",     '
    'tmp.CARDINALITY AS "CARDINALITY",     tmp.PAGES AS "PAGES",     tmp.FILTER_CONDITION AS "FILTER_CONDITION",   '
    '  tmp.REMARKS AS "REMARKS"FROM (SELECT current_database() AS TABLE_CAT,  n.nspname AS TABLE_SCHEM,   ct.relname '
    'AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME,   CASE i.indisclustered '
    "    WHEN true THEN 1    ELSE CASE am.amname       WHEN 'hash' THEN 2      ELSE "
    "3    END   END AS TYPE,   (information_schema._pg_expandarray(i.indkey)).n "
    'AS ORDINAL_POSITION,   ci.reltuples AS CARDINALITY,   ci.relpages AS PAGES,   pg_catalog.pg_get_expr(i.indpred, '
    'i.indrelid) AS FILTER_CONDITION,   ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME,   d.description '
    'AS REMARKS FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index '
    'i ON (ct.oid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)   JOIN pg_catalog.pg_am am '
    'ON (ci.relam = am.oid)   LEFT JOIN pg_catalog.pg_description d ON (ci.oid = d.objoid) WHERE true  AND n.nspname '
    '= $1 AND ct.relname = $2) AS tmp ORDER BY "NON_UNIQUE", "TYPE", "INDEX_NAME", "ORDINAL_POSITION" '
)

MAX_INDEX_KEYS = (
    "SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'"
)

GET_IMPORTED_KEYS = (
    'SELECT current_database() AS "PKTABLE_CAT", pkn.nspname AS "PKTABLE_SCHEM", pkc.relname AS "PKTABLE_NAME", pka.attname '
    'AS "PKCOLUMN_NAME", current_database() AS "FKTABLE_CAT", fkn.nspname AS "FKTABLE_SCHEM", fkc.relname AS "FKTABLE_NAME", '
    'fka.attname AS "FKCOLUMN_NAME", pos.n AS "KEY_SEQ", CASE con.confupdtype  WHEN \'c\' THEN 0 WHEN \'n\' THEN 2 '
    'WHEN \'d\' THEN 4 WHEN \'r\' THEN 1 WHEN \'p\' THEN 1 WHEN \'a\' THEN 3 ELSE NULL END AS "UPDATE_RULE", CASE con.confdeltype '
    " WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END "
    'AS "DELETE_RULE", con.conname AS "FK_NAME", pkic.relname AS "PK_NAME", CASE  WHEN con.condeferrable AND con.condeferred '
    'THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS "DEFERRABILITY"  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class '
    'pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute '
    'fka,  pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  pg_catalog.pg_class pkic WHERE '
    'pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = '
    'pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid '
    "= fkc.oid  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid  AND "
    'fkn.nspname = $1 AND fkc.relname = $2 ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n'
)

GET_EXPORTED_KEYS = (
    'SELECT current_database() AS "PKTABLE_CAT", pkn.nspname AS "PKTABLE_SCHEM", pkc.relname AS "PKTABLE_NAME", pka.attname '
    'AS "PKCOLUMN_NAME", current_database() AS "FKTABLE_CAT", fkn.nspname AS "FKTABLE_SCHEM", fkc.relname AS "FKTABLE_NAME", '
    'fka.attname AS "FKCOLUMN_NAME", pos.n AS "KEY_SEQ", CASE con.confupdtype  WHEN \'c\' THEN 0 WHEN \'n\' THEN 2 '
    'WHEN \'d\' THEN 4 WHEN \'r\' THEN 1 WHEN \'p\' THEN 1 WHEN \'a\' THEN 3 ELSE NULL END AS "UPDATE_RULE", CASE con.confdeltype '
    " WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END "
    'AS "DELETE_RULE", con.conname AS "FK_NAME", pkic.relname AS "PK_NAME", CASE  WHEN con.condeferrable AND con.condeferred '
    'THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS "DEFERRABILITY"  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class '
    'pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute '
    'fka,  pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  pg_catalog.pg_class pkic WHERE '
    'pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = '
    'pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid '
    "= fkc.oid  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid  AND "
    'pkn.nspname = $1 AND pkc.relname = $2 ORDER BY fkn.nspname,fkc.relname,con.conname,pos.n'
)

GET_FUNCTIONS = (
    'SELECT current_database() AS "FUNCTION_CAT",  n.nspname AS "FUNCTION_SCHEM", p.proname AS "FUNCTION_NAME",  d.description '
    'AS "REMARKS",  CASE    WHEN (format_type(p.prorettype, null) = \'unknown\') THEN 0   WHEN      (substring(pg_get_function_result(p.oid) '
    "from 0 for 6) = 'TABLE') OR      (substring(pg_get_function_result(p.oid) from 0 for 6) = 'SETOF') THEN 2   ELSE "
    '1 END  AS "FUNCTION_TYPE",  p.proname || \'_\' || p.oid AS "SPECIFIC_NAME" FROM pg_catalog.pg_proc p INNER JOIN '
    'pg_catalog.pg_namespace n ON p.pronamespace=n.oid LEFT JOIN pg_catalog.pg_description d ON p.oid=d.objoid WHERE '
    'true   AND p.prokind=\'f\' AND p.proname LIKE $1 ORDER BY "FUNCTION_SCHEM", "FUNCTION_NAME", p.oid::text '
)

GET_FUNCTION_COLUMNS = (
    'SELECT current_database() AS current_database, n.nspname,p.proname,p.prorettype,p.proargtypes, t.typtype,t.typrelid, '
    ' p.proargnames, p.proargmodes, p.proallargtypes, p.oid  FROM pg_catalog.pg_proc p, pg_catalog.pg_namespace n, '
    'pg_catalog.pg_type t  WHERE p.pronamespace=n.oid AND p.prorettype=t.oid  AND p.proname LIKE $1 ORDER BY n.nspname, '
    'p.proname, p.oid::text '
)

GET_TYPE_INFO = (
    'SELECT t.typname,t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON (t.typnamespace = n.oid)  WHERE '
    "n.nspname  != 'pg_toast' AND  (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid "
    '= t.typrelid))'
)

TYPE_INFO_CACHE = (
    "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type "
    '  LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select '
    's.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), '
    '1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  ORDER BY sp.r, pg_type.oid '
    'DESC'
)

GET_BEST_ROW_IDENTIFIER = (
    'SELECT a.attname, a.atttypid, atttypmod FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid '
    '= a.attrelid)   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN (SELECT i.indexrelid, i.indrelid, '
    'i.indisprimary,              information_schema._pg_expandarray(i.indkey) AS keys         FROM pg_catalog.pg_index '
    'i) i     ON (a.attnum = (i.keys).x AND a.attrelid = i.indrelid) WHERE true  AND n.nspname = $1 AND ct.relname '
    '= $2 AND i.indisprimary  ORDER BY a.attnum '
)

# getSQLKeywords (DBeaver calls it on connect): the server's keywords but the SQL:2003 ones the driver lists
GET_SQL_KEYWORDS = (
    "select string_agg(word, ',') from pg_catalog.pg_get_keywords() where word <> ALL ('{a,abs,absolute,action,ada,"
    'add,admin,after,all,allocate,alter,always,and,any,are,array,as,asc,asensitive,assertion,assignment,asymmetric,'
    'at,atomic,attribute,attributes,authorization,avg,before,begin,bernoulli,between,bigint,binary,blob,boolean,bot'
    'h,breadth,by,c,call,called,cardinality,cascade,cascaded,case,cast,catalog,catalog_name,ceil,ceiling,chain,char'
    ',char_length,character,character_length,character_set_catalog,character_set_name,character_set_schema,characte'
    'ristics,characters,check,checked,class_origin,clob,close,coalesce,cobol,code_units,collate,collation,collation'
    '_catalog,collation_name,collation_schema,collect,column,column_name,command_function,command_function_code,com'
    'mit,committed,condition,condition_number,connect,connection_name,constraint,constraint_catalog,constraint_name'
    ',constraint_schema,constraints,constructors,contains,continue,convert,corr,corresponding,count,covar_pop,covar'
    '_samp,create,cross,cube,cume_dist,current,current_collation,current_date,current_default_transform_group,curre'
    'nt_path,current_role,current_time,current_timestamp,current_transform_group_for_type,current_user,cursor,curso'
    'r_name,cycle,data,date,datetime_interval_code,datetime_interval_precision,day,deallocate,dec,decimal,declare,d'
    'efault,defaults,deferrable,deferred,defined,definer,degree,delete,dense_rank,depth,deref,derived,desc,describe'
    ',descriptor,deterministic,diagnostics,disconnect,dispatch,distinct,domain,double,drop,dynamic,dynamic_function'
    ',dynamic_function_code,each,element,else,end,end-exec,equals,escape,every,except,exception,exclude,excluding,e'
    'xec,execute,exists,exp,external,extract,false,fetch,filter,final,first,float,floor,following,for,foreign,fortr'
    'an,found,free,from,full,function,fusion,g,general,get,global,go,goto,grant,granted,group,grouping,having,hiera'
    'rchy,hold,hour,identity,immediate,implementation,in,including,increment,indicator,initially,inner,inout,input,'
    'insensitive,insert,instance,instantiable,int,integer,intersect,intersection,interval,into,invoker,is,isolation'
    ',join,k,key,key_member,key_type,language,large,last,lateral,leading,left,length,level,like,ln,local,localtime,'
    'localtimestamp,locator,lower,m,map,match,matched,max,maxvalue,member,merge,message_length,message_octet_length'
    ',message_text,method,min,minute,minvalue,mod,modifies,module,month,more,multiset,mumps,name,names,national,nat'
    'ural,nchar,nclob,nesting,new,next,no,none,normalize,normalized,not,"null",nullable,nullif,nulls,number,numeric'
    ',object,octet_length,octets,of,old,on,only,open,option,options,or,order,ordering,ordinality,others,out,outer,o'
    'utput,over,overlaps,overlay,overriding,pad,parameter,parameter_mode,parameter_name,parameter_ordinal_position,'
    'parameter_specific_catalog,parameter_specific_name,parameter_specific_schema,partial,partition,pascal,path,per'
    'cent_rank,percentile_cont,percentile_disc,placing,pli,position,power,preceding,precision,prepare,preserve,prim'
    'ary,prior,privileges,procedure,public,range,rank,read,reads,real,recursive,ref,references,referencing,regr_avg'
    'x,regr_avgy,regr_count,regr_intercept,regr_r2,regr_slope,regr_sxx,regr_sxy,regr_syy,relative,release,repeatabl'
    'e,restart,result,return,returned_cardinality,returned_length,returned_octet_length,returned_sqlstate,returns,r'
    'evoke,right,role,rollback,rollup,routine,routine_catalog,routine_name,routine_schema,row,row_count,row_number,'
    'rows,savepoint,scale,schema,schema_name,scope_catalog,scope_name,scope_schema,scroll,search,second,section,sec'
    'urity,select,self,sensitive,sequence,serializable,server_name,session,session_user,set,sets,similar,simple,siz'
    'e,smallint,some,source,space,specific,specific_name,specifictype,sql,sqlexception,sqlstate,sqlwarning,sqrt,sta'
    'rt,state,statement,static,stddev_pop,stddev_samp,structure,style,subclass_origin,submultiset,substring,sum,sym'
    'metric,system,system_user,table,table_name,tablesample,temporary,then,ties,time,timestamp,timezone_hour,timezo'
    'ne_minute,to,top_level_count,trailing,transaction,transaction_active,transactions_committed,transactions_rolle'
    'd_back,transform,transforms,translate,translation,treat,trigger,trigger_catalog,trigger_name,trigger_schema,tr'
    'im,true,type,uescape,unbounded,uncommitted,under,union,unique,unknown,unnamed,unnest,update,upper,usage,user,u'
    'ser_defined_type_catalog,user_defined_type_code,user_defined_type_name,user_defined_type_schema,using,value,va'
    'lues,var_pop,var_samp,varchar,varying,view,when,whenever,where,width_bucket,window,with,within,without,work,wr'
    "ite,year,zone}'::text[])"
)

# getClientInfoProperties, and getMaxTableNameLength & co.: the length of PostgreSQL's name type, less one
MAX_NAME_LENGTH = (
    "SELECT t.typlen FROM pg_catalog.pg_type t, pg_catalog.pg_namespace n WHERE t.typnamespace=n.oid AND "
    "t.typname='name' AND n.nspname='pg_catalog'"
)


def _run(srv: Server, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """``sql`` as the driver sends it: $n parameters in the extended protocol, then once more prepared (the same
    rows; in any order where the query has no ORDER BY, as getTypeInfo's first)."""
    with psycopg.connect(srv.url(), autocommit=True, cursor_factory=psycopg.RawCursor) as conn:
        rows = conn.execute(sql, params or None).fetchall()
        assert sorted(conn.execute(sql, params or None, prepare=True).fetchall(), key=repr) == sorted(rows, key=repr)
        if not params:  # and in the simple protocol
            with psycopg.ClientCursor(conn) as cur:
                assert sorted(cur.execute(sql).fetchall(), key=repr) == sorted(rows, key=repr)
    return rows


def test_get_primary_keys(shop: Server) -> None:
    # failed on information_schema._pg_expandarray
    rows = _run(shop, GET_PRIMARY_KEYS, "main", "orders")
    assert [(r[3], r[4], r[5]) for r in rows] == [("order_id", 1, "orders_order_id_qty_pkey"),
                                                  ("qty", 2, "orders_order_id_qty_pkey")]
    assert [(r[1], r[2], r[3]) for r in _run(shop, GET_PRIMARY_KEYS, "other", "items")] == [("other", "items", "k")]
    assert _run(shop, GET_PRIMARY_KEYS, "main", "plain") == []  # no key: none invented


def test_get_index_info(shop: Server) -> None:
    # failed on information_schema._pg_expandarray, then on indoption[n] & 1 (int2vector subscript)
    rows = _run(shop, GET_INDEX_INFO, "main", "orders")
    got = [(r[3], r[5], r[7], r[8]) for r in rows]  # NON_UNIQUE, INDEX_NAME, ORDINAL_POSITION, COLUMN_NAME
    assert got == [(False, "orders_customer_id_note_key", 1, "customer_id"),
                   (False, "orders_customer_id_note_key", 2, "note"),
                   (False, "orders_order_id_qty_pkey", 1, "order_id"),
                   (False, "orders_order_id_qty_pkey", 2, "qty"),
                   (True, "orders_note", 1, "note")]
    assert [r[9] for r in rows] == [None] * 5  # ASC_OR_DESC: only for btree indexes; DuckDB's are ART
    assert _run(shop, GET_INDEX_INFO, "main", "plain") == []


def test_foreign_keys_imported_and_exported(shop: Server) -> None:
    # the driver reads max_index_keys first ("Unable to determine a value for MaxIndexKeys"), then joins the
    # referenced key's index through pg_constraint.conindid
    assert _run(shop, MAX_INDEX_KEYS) == [("32",)]
    want = [("main", "customers", "id", "main", "orders", "customer_id", 1, "orders_customer_id_id_fkey",
             "customers_id_pkey")]
    cols = (1, 2, 3, 5, 6, 7, 8, 11, 12)  # PK schema, table, column; FK schema, table, column; KEY_SEQ; FK_NAME; PK_NAME
    imported = _run(shop, GET_IMPORTED_KEYS, "main", "orders")
    assert [tuple(r[i] for i in cols) for r in imported] == want
    assert [tuple(r[i] for i in cols) for r in _run(shop, GET_EXPORTED_KEYS, "main", "customers")] == want
    assert _run(shop, GET_IMPORTED_KEYS, "main", "customers") == []
    assert _run(shop, GET_EXPORTED_KEYS, "main", "orders") == []
    assert _run(shop, GET_IMPORTED_KEYS, "main", "plain") == []


def test_get_functions_lists_the_anomaly_functions(shop: Server) -> None:
    # failed on substring() of pg_get_function_result(p.oid), then found no schema for the functions
    rows = _run(shop, GET_FUNCTIONS, "anomaly%")
    assert [(r[1], r[2], r[4]) for r in rows] == [
        ("pg_catalog", name, 1) for name in ("anomaly_explain", "anomaly_imputed", "anomaly_model", "anomaly_mse",
                                             "anomaly_percentile", "anomaly_score", "anomaly_terms",
                                             "anomaly_threshold")]  # 1: returns a value, not a table
    assert _run(shop, GET_FUNCTIONS, "no_such_function%") == []
    cols = {r[2]: (r[3], r[4]) for r in _run(shop, GET_FUNCTION_COLUMNS, "anomaly%")}
    # return and argument types as pg_type oids: double precision; (varchar, double precision); a list as json
    assert cols["anomaly_score"] == (701, "1043 701") and cols["anomaly_explain"][0] == 114
    assert cols["anomaly_terms"][0] == 114  # a struct as json, as the list is


def test_get_type_info(shop: Server) -> None:
    # failed on ::regproc, and listed no types (DuckDB's typrelid is NULL, not 0)
    types = dict(_run(shop, GET_TYPE_INFO))
    assert {"int2": 21, "int4": 23, "int8": 20, "float4": 700, "float8": 701, "varchar": 1043, "numeric": 1700,
            "bool": 16, "date": 1082, "timestamp": 1114, "timestamptz": 1184, "uuid": 2950, "json": 114}.items() \
        <= types.items()
    rows = _run(shop, TYPE_INFO_CACHE)
    assert {r[2] for r in rows} == set(types)
    # the array types whose values the server decodes as parameters, by typinput as PostgreSQL's (JDBC's setArray)
    assert {r[2] for r in rows if r[0]} == {"_bool", "_int2", "_int4", "_int8", "_float4", "_float8", "_numeric",
                                            "_varchar", "_date", "_time", "_timestamp", "_timestamptz", "_uuid",
                                            "_json", "_bytea", "_interval", "_timetz", "_text", "_oid"}
    assert types["_int4"] == 1007 and types["_float8"] == 1022


def test_get_sql_keywords_are_duckdbs(shop: Server) -> None:
    # failed on pg_catalog.pg_get_keywords(), then on the '{a,abs,...}'::text[] literal (DuckDB casts no {...} text)
    [(words,)] = _run(shop, GET_SQL_KEYWORDS)
    sql2003 = set(re.search(r"'\{(.*)\}'", GET_SQL_KEYWORDS).group(1).replace('"', "").split(","))
    con = duckdb.connect()
    try:
        duck = {w for (w,) in con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()}
    finally:
        con.close()
    assert sorted(words.split(",")) == sorted(duck - sql2003)  # each once (DuckDB lists struct, map, ... twice)
    assert "null" in duck and "null" not in words.split(",") and "asof" in words.split(",")
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        # PostgreSQL's catcodes from DuckDB's categories (its grammar is PostgreSQL's)
        got = dict(conn.execute("SELECT word, catcode || ' ' || catdesc FROM pg_catalog.pg_get_keywords() "
                                "WHERE word IN ('select', 'year', 'between', 'left', 'struct')").fetchall())
        assert got == {"select": "R reserved", "year": "U unreserved", "between": "C unreserved (cannot be function "
                       "or type name)", "left": "T reserved (can be function or type name)",
                       "struct": "T reserved (can be function or type name)"}
        # an array literal in a comment or a string stays as written; cast to an array, it is one
        assert conn.execute("SELECT '{a,b}' /* '{x}'::text[] */, '{a,\"b c\",NULL,\"null\"}'::text[], "
                            "'{{1,2},{3,4}}'::INTEGER[][], '{}'::BIGINT[]").fetchone() == (
            "{a,b}", ["a", "b c", None, "null"], [[1, 2], [3, 4]], [])


def test_get_client_info_properties_finds_the_name_type(shop: Server) -> None:
    # failed with "Unable to find name datatype in the system catalogs": the driver reads its length (less one, 63:
    # the max_identifier_length the server announces) as ApplicationName's MAX_LEN and every getMax...NameLength
    assert _run(shop, MAX_NAME_LENGTH) == [(64,)]
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        assert conn.execute("SHOW max_identifier_length").fetchall() == [("63",)]


def test_get_best_row_identifier(shop: Server) -> None:
    # failed on information_schema._pg_expandarray
    assert [r[0] for r in _run(shop, GET_BEST_ROW_IDENTIFIER, "main", "orders")] == ["order_id", "qty"]
    assert _run(shop, GET_BEST_ROW_IDENTIFIER, "main", "plain") == []


def test_get_schemas(shop: Server) -> None:
    # PostgreSQL lists pg_catalog and information_schema too: DuckDB keeps its catalogue views there
    assert _run(shop, GET_SCHEMAS) == [(s, "shop") for s in ("information_schema", "main", "other", "pg_catalog")]


def test_rewrites_leave_literals_and_comments_alone(shop: Server) -> None:
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        got = conn.execute("SELECT 'information_schema._pg_expandarray(x) y::regproc i.indoption[1]' /* x::regproc */, "
                           "(information_schema._pg_expandarray([5, 7])).n, 'pg_catalog.array_in'::regproc, "
                           "i.indoption[0] FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indrelid "
                           "WHERE c.relname = 'orders' AND NOT i.indisunique").fetchall()
        assert got == [("information_schema._pg_expandarray(x) y::regproc i.indoption[1]", 1, "array_in", 0),
                       ("information_schema._pg_expandarray(x) y::regproc i.indoption[1]", 2, "array_in", 0)]


# Metabase's PostgreSQL driver (0.50+) lists tables and foreign keys with its own SQL over the same JDBC driver;
# these are the statements of metabase/driver/postgres.clj (get-tables-sql, describe-fks-sql) as its HoneySQL
# renders them (written out by hand from that source, not captured from a running Metabase).
METABASE_TABLES = (
    "SELECT n.nspname AS schema, c.relname AS name, CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED "
    "TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "
    "type, d.description AS description, stat.n_live_tup AS estimated_row_count FROM pg_catalog.pg_class AS c "
    "INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid LEFT JOIN pg_catalog.pg_description AS d ON "
    "(c.oid = d.objoid) AND (d.objsubid = 0) AND (d.classoid = 'pg_class'::regclass) LEFT JOIN pg_stat_user_tables "
    "AS stat ON (n.nspname = stat.schemaname) AND (c.relname = stat.relname) WHERE (c.relnamespace = n.oid) AND "
    "(n.nspname !~ $1) AND (n.nspname <> $2) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND n.nspname IN ($3, $4) "
    "ORDER BY type ASC, schema ASC, name ASC"
)
METABASE_FKS = (
    'SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" '
    'AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", '
    '"pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON '
    '"c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" '
    'INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS '
    '"pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON '
    '"pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = '
    "\"pk_column\".\"attrelid\" WHERE (fk_ns.nspname !~ '^information_schema|catalog_history|pg_') AND "
    "(\"c\".\"contype\" = 'f'::char) AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = "
    'ANY(c.confkey)) AND ("fk_ns"."nspname" IN ($1)) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC'
)


def test_metabase_lists_tables_with_duckdbs_row_estimates_and_foreign_keys(shop: Server) -> None:
    # failed on pg_stat_user_tables (the estimated row count Metabase reads)
    rows = _run(shop, METABASE_TABLES, "^pg_", "information_schema", "main", "other")
    assert [(r[0], r[1], r[2]) for r in rows] == [("main", "customers", "TABLE"), ("main", "orders", "TABLE"),
                                                  ("main", "plain", "TABLE"), ("other", "items", "TABLE"),
                                                  ("main", "big_customers", "VIEW"), ("other", "items_v", "VIEW")]
    counts = {r[1]: r[4] for r in rows}
    assert counts["customers"] == 1 and counts["items"] == 1 and counts["plain"] == 0  # DuckDB's own estimates
    assert counts["big_customers"] is None  # a view has none
    assert rows[0][3] == "who buys"
    assert _run(shop, METABASE_FKS, "main") == [("main", "orders", "customer_id", "main", "customers", "id")]


# Metabase 0.62's field sync (postgres.clj's describe-fields-sql) and table list, as Metabase v0.62.1.5 sent them to
# PostgreSQL 16 (a statement log of its sync, published with the parameters it bound: $1 'ALWAYS', then the
# schema). Its SQL quotes every identifier, catalogue names too ("pg_catalog"."pg_class"), and calls PostgreSQL's
# format('%s', ...) / format('%I.%I', ...), which DuckDB's format() reads as {} placeholders.
METABASE_FIELDS = (
    'SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN (\'public\', \'pg_catalog\') THEN FORMAT(\'%s\', '
    '"c"."udt_name") ELSE FORMAT(\'"%s"."%s"\', "c"."udt_schema", "c"."udt_name") END AS "database-type", '
    '"c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema", "c"."table_name" AS '
    '"table-name", "pk"."column_name" IS NOT NULL AS "pk?", COL_DESCRIPTION(CAST(CAST(FORMAT(\'%I.%I\', '
    'CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") '
    'AS "field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = \'null\')) AND ("is_nullable" = '
    '\'NO\') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE \'%nextval(%\')) OR ("is_identity" <> '
    '\'NO\')) AS "database-required", "column_default" AS "database-default", (("column_default" IS NOT NULL) AND '
    '("column_default" LIKE \'%nextval(%\')) OR ("is_identity" <> \'NO\') AS "database-is-auto-increment", '
    '"is_generated" = $1 AS "database-is-generated", "is_nullable" = \'YES\' AS "database-is-nullable" FROM '
    '"information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", '
    '"kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" INNER JOIN '
    '"information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND '
    '("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE '
    '"tc"."constraint_type" = \'PRIMARY KEY\') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") AND '
    '("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ '
    '\'^information_schema|catalog_history|pg_\' AND ("c"."table_schema" IN ($2)) UNION ALL SELECT "pa"."attname" AS '
    '"name", CASE WHEN "ptn"."nspname" IN (\'public\', \'pg_catalog\') THEN FORMAT(\'%s\', "pt"."typname") ELSE '
    'FORMAT(\'"%s"."%s"\', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS '
    '"database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS '
    '"field-comment", FALSE AS "database-required", NULL AS "database-default", FALSE AS '
    '"database-is-auto-increment", FALSE AS "database-is-generated", FALSE AS "database-is-nullable" FROM '
    '"pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = '
    '"pc"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN '
    '"pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" '
    'ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = \'m\') AND ("pa"."attnum" >= 1) AND '
    '("pn"."nspname" IN ($3)) ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC'
)


def test_metabase_field_sync_gets_postgres_types(shop: Server) -> None:
    # gave every field no database type: DuckDB's information_schema.columns has no udt_schema or udt_name (and its
    # format() would have printed '%s' as it is)
    rows = _run(shop, METABASE_FIELDS, "ALWAYS", "main", "main")
    fields = {(r[4], r[0]): r for r in rows}
    assert {name: r[1] for (table, name), r in fields.items() if table == "customers"} == {
        "id": "int4", "email": "varchar", "name": "varchar", "score": "float8", "created": "timestamp",
        "amount": "numeric", "flag": "bool", "visits": "int8", "born": "date", "seen": "timestamptz",
        "tags": "_int4"}  # an INTEGER[] arrives as int4[]
    assert [(r[0], r[2], r[5]) for r in rows if r[4] == "orders"] == [
        ("order_id", 0, True), ("customer_id", 1, False), ("qty", 2, True), ("note", 3, False)]
    customer = fields[("customers", "id")]
    assert customer[5:7] == (True, None) and customer[7] is True  # primary key, no comment, required (NOT NULL)
    assert fields[("customers", "email")][6] == "their mail"  # the column's comment, through ::regclass
    assert fields[("customers", "name")][7:9] == (False, "'x'")  # has a default: not required
    assert not any(r[9] for r in rows)  # nothing auto-increments: DuckDB has no serial or identity columns
    assert {r[4] for r in rows} == {"customers", "orders", "plain", "big_customers"}  # main's tables and views
    assert {r[1] for r in _run(shop, METABASE_FIELDS, "ALWAYS", "other", "other")} == {"int4", "varchar"}


# Metabase 0.62's table list (get-tables-sql), from the same statement log: every identifier quoted, the estimated
# row count through NULLIF; the driver binds $1 and $2 as numbers (0), then '^pg_', 'information_schema', the schema.
METABASE_TABLES_QUOTED = (
    'SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN \'r\' THEN \'TABLE\' WHEN \'p\' '
    'THEN \'PARTITIONED TABLE\' WHEN \'v\' THEN \'VIEW\' WHEN \'f\' THEN \'FOREIGN TABLE\' WHEN \'m\' THEN \'MATERIALIZED '
    'VIEW\' ELSE NULL END AS "type", "d"."description" AS "description", NULLIF("stat"."n_live_tup", $1) AS '
    '"estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON '
    '"c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND '
    '("d"."objsubid" = $2) AND ("d"."classoid" = \'pg_class\'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON '
    '("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = '
    '"n"."oid") AND ("n"."nspname" !~ $3) AND ("n"."nspname" <> $4) AND c.relkind in (\'r\', \'p\', \'v\', \'f\', \'m\') '
    'AND ("n"."nspname" IN ($5)) ORDER BY "type" ASC, "schema" ASC, "name" ASC'
)


def test_quoted_catalogue_names_reach_the_session_views(shop: Server) -> None:
    # "pg_catalog"."pg_class" reached DuckDB's own catalogue: no table comments (its pg_description's classoid is
    # the database's), and a quoted PgJDBC query found no index keys
    rows = _run(shop, METABASE_TABLES_QUOTED, 0, 0, "^pg_", "information_schema", "main")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("main", "customers", "TABLE", "who buys"), ("main", "orders", "TABLE", None),
        ("main", "plain", "TABLE", None), ("main", "big_customers", "VIEW", None)]
    assert {r[1]: r[4] for r in rows} == {"customers": 1, "orders": None, "plain": None, "big_customers": None}
    quoted = re.sub(r"(pg_catalog|information_schema)\.(\w+)", r'"\1"."\2"', GET_INDEX_INFO)
    assert quoted.count('"pg_catalog"."pg_') == 8 and '"information_schema"."_pg_expandarray"(' in quoted
    assert _run(shop, quoted, "main", "orders") == _run(shop, GET_INDEX_INFO, "main", "orders")


def test_new_rewrites_leave_literals_and_comments_alone(shop: Server) -> None:
    text = """"pg_catalog"."pg_class" information_schema.columns format('%s', 1) pg_catalog.format_type(1, 2)"""
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        sql = (f"SELECT '{text.replace(chr(39), chr(39) * 2)}' /* {text} */, format('%s|%I', 'a', 'B'), "
               "format('{}', 'duckdb'), -- \"information_schema\".\"columns\"\n"
               "(SELECT udt_name FROM \"information_schema\".\"columns\" WHERE table_name = 'plain')")
        assert conn.execute(sql).fetchone() == (text, 'a|"B"', "duckdb", "int4")


# The rest of the same Metabase v0.62.1.5 log: PgJDBC's current getColumns (#13; $1, $2: schema and table patterns)
# and getPrimaryKeys (#14, through pg_index rather than pg_constraint), then its result-set metadata query (#18):
# the driver asks it for the columns of a result whose RowDescription names their table (the log's oid 16384,
# attnums 2, 3, 4), to answer isNullable / isAutoIncrement. This server names no table there (DuckDB does not say
# which table a result column comes from: table OID 0, as PostgreSQL sends for a computed column), so PgJDBC does
# not send it to this server; replayed with a real table's oid, it answers as it would.
METABASE_GET_COLUMNS = (
    "SELECT * FROM (SELECT current_database() AS current_database, n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull  OR "
    "(t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY "
    "a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as "
    "attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM "
    "pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON "
    "(a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON "
    "(a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND "
    "a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT "
    "JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in "
    "('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE $1 AND c.relname LIKE $2) c WHERE "
    "true  ORDER BY nspname,c.relname,attnum"
)
METABASE_GET_PRIMARY_KEYS = (
    'SELECT        result.TABLE_CAT AS "TABLE_CAT",        result.TABLE_SCHEM AS "TABLE_SCHEM",        result.TABLE_NAME '
    'AS "TABLE_NAME",        result.COLUMN_NAME AS "COLUMN_NAME",        result.KEY_SEQ AS "KEY_SEQ",        result.PK_NAME '
    'AS "PK_NAME"FROM      (SELECT current_database() AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, '
    'a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   '
    'information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM, i.indnkeyatts as KEY_COUNT FROM '
    'pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN pg_catalog.pg_namespace n ON '
    '(ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON '
    '(ci.oid = i.indexrelid) WHERE true  AND n.nspname = $1 AND ct.relname = $2 AND i.indisprimary  ) result where  '
    'result.A_ATTNUM = (result.KEYS).x AND result.KEY_SEQ <= KEY_COUNT  ORDER BY result.table_name, result.pk_name, '
    'result.key_seq'
)
def metabase_field_metadata(oid: int, attnums: list[int]) -> str:
    """#18 for table ``oid``'s columns ``attnums``, as PgJDBC writes it."""
    vals = " UNION ALL ".join(f"SELECT {oid} AS oid , {a} AS attnum" if i == 0 else f"SELECT {oid}, {a}"
                              for i, a in enumerate(attnums))
    return ("SELECT c.oid, a.attnum, a.attname, c.relname, n.nspname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), "
            "a.attidentity != '' OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%' FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (c.oid = a.attrelid) "
            "JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef d ON (d.adrelid = a.attrelid "
            f"AND d.adnum = a.attnum) JOIN ({vals}) vals ON (c.oid = vals.oid AND a.attnum = vals.attnum) where c.oid in ({oid})")


def test_metabase_getcolumns_getprimarykeys_and_result_metadata(shop: Server) -> None:
    rows = _run(shop, METABASE_GET_COLUMNS, "main", "orders")
    # name, type oid, NOT NULL, typmod, position, default; base type 0 and typtype 'b': no domains
    assert [(r[3], r[4], r[5], r[6], r[9], r[12], r[14], r[15]) for r in rows] == [
        ("order_id", 20, True, -1, 1, None, 0, "b"), ("customer_id", 23, False, -1, 2, None, 0, "b"),
        ("qty", 21, True, -1, 3, None, 0, "b"), ("note", 1043, False, -1, 4, None, 0, "b")]
    assert {r[10:12] for r in rows} == {(None, None)}  # no identity or generated columns
    cust = {r[3]: r for r in _run(shop, METABASE_GET_COLUMNS, "main", "cust%")}
    assert cust["name"][12] == "'x'" and cust["email"][13] == "their mail" and cust["amount"][6] == (12 << 16 | 2) + 4
    assert _run(shop, METABASE_GET_PRIMARY_KEYS, "main", "orders") == [
        ("shop", "main", "orders", "order_id", 1, "orders_order_id_qty_pkey"),
        ("shop", "main", "orders", "qty", 2, "orders_order_id_qty_pkey")]
    assert _run(shop, METABASE_GET_PRIMARY_KEYS, "main", "plain") == []
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        oid = conn.execute("SELECT oid FROM pg_catalog.pg_class WHERE relname = 'customers'").fetchone()[0]
    got = _run(shop, metabase_field_metadata(oid, [1, 2, 3]))
    # auto-increment: false OR NULL (no default) is NULL, as in PostgreSQL (PgJDBC reads it as false)
    assert sorted(got) == [(oid, 1, "id", "customers", "main", True, None),
                           (oid, 2, "email", "customers", "main", True, None),
                           (oid, 3, "name", "customers", "main", False, False)]  # a default, not nextval(...)


# A list column of each kind and the array type it is listed (and sent) as (pgtypes.type_of)
LIST_COLUMNS = [("i", "INTEGER[]", 1007, "_int4"), ("s", "VARCHAR[]", 1009, "_text"), ("u", "UINTEGER[]", 1028, "_oid"),
                ("d", "DECIMAL(5,2)[]", 1231, "_numeric"), ("j", "JSON[]", 199, "_json")]


def test_getcolumns_lists_every_list_column(tmp_path_factory: pytest.TempPathFactory) -> None:
    """PgJDBC's getColumns (and Metabase's field sync) join pg_attribute to pg_type on the column's type: a VARCHAR[]
    column (text[]) and a UINTEGER[] one (oid[]) were left out, pg_type having no _text or _oid (DuckDB's own lists
    neither text nor oid)."""
    path = str(tmp_path_factory.mktemp("lists") / "lists.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE lists (" + ", ".join(f"{n} {t}" for n, t, _, _ in LIST_COLUMNS) + ")")
    con.close()
    with serve(path) as srv:
        rows = _run(srv, METABASE_GET_COLUMNS, "main", "lists")
        assert [(r[3], r[4]) for r in rows] == [(n, oid) for n, _, oid, _ in LIST_COLUMNS]
        with psycopg.connect(srv.url(), autocommit=True) as conn:
            got = conn.execute("SELECT a.attname, t.typname, e.typname FROM pg_catalog.pg_attribute a JOIN "
                               "pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_type e ON e.oid = "
                               "t.typelem AND e.typarray = t.oid WHERE a.attrelid = 'lists'::regclass ORDER BY "
                               "a.attnum").fetchall()
            assert got == [(n, name, name[1:]) for n, _, _, name in LIST_COLUMNS]
            # and a result's list column is described as that same type
            cur = conn.execute("SELECT * FROM lists")
            assert [d.type_code for d in cur.description] == [oid for _, _, oid, _ in LIST_COLUMNS]


# DBeaver's PostgreSQL navigator (plugins/org.jkiss.dbeaver.ext.postgresql, PostgreSchema's TableCache and IndexCache),
# as it prepares them through PgJDBC for a server of version 10 or later (this one says 15.0): a schema's relations,
# with each one's partition bound and key, and a table's indexes, with their sizes and scan counts. $1: an oid.
DBEAVER_TABLES = (
    "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  "
    "pg_catalog.pg_get_partkeydef(c.oid) as partition_key \nFROM pg_catalog.pg_class c\n"
    "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND "
    "d.classoid='pg_class'::regclass\nWHERE c.relnamespace=$1 AND c.relkind not in ('i','c')"
)
DBEAVER_INDEXES = (
    "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,"
    "dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,"
    "pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,"
    "pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,"
    "pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans\nFROM pg_catalog.pg_index i"
    "\nINNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid\nINNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid"
    "\nLEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid\nWHERE  i.indrelid=$1 "
    "ORDER BY tabrelname, c.relname"
)


def test_dbeaver_lists_a_schemas_tables_and_a_tables_indexes(shop: Server) -> None:
    """DBeaver's navigator failed on connect to this server: its table list calls pg_get_partkeydef (PostgreSQL 10+)
    and its index list pg_stat_get_numscans, neither of which DuckDB has ("Scalar Function with name ... does not
    exist"), so no schema showed a table. DuckDB has no partitioned tables and keeps no scan counts: NULL for both,
    as PostgreSQL's partition key of a table that is not partitioned, never an invented count."""
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        main, orders = conn.execute("SELECT (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'main'), "
                                    "(SELECT oid FROM pg_catalog.pg_class WHERE relname = 'orders')").fetchall()[0]
    got = _run(shop, DBEAVER_TABLES, main)
    cols = ["relname", "relkind", "description", "partition_expr", "partition_key"]
    names = _columns(shop, DBEAVER_TABLES, main)
    rows = sorted(tuple(r[names.index(c)] for c in cols) for r in got)
    assert rows == [("big_customers", "v", None, None, None), ("customers", "r", "who buys", None, None),
                    ("orders", "r", None, None, None), ("plain", "r", None, None, None)]
    indexes = _run(shop, DBEAVER_INDEXES, orders)
    names = _columns(shop, DBEAVER_INDEXES, orders)
    assert {r[names.index("relname")] for r in indexes} >= {"orders_note"}
    assert {r[names.index("index_num_scans")] for r in indexes} == {None}


def _columns(srv: Server, sql: str, *params: Any) -> list[str]:
    """The names of the columns of ``sql``'s result (run as _run runs it)."""
    with psycopg.connect(srv.url(), autocommit=True, cursor_factory=psycopg.RawCursor) as conn:
        cur = conn.execute(sql, params or None)
        assert cur.description is not None
        return [d.name for d in cur.description]


# Metabase's PostgreSQL driver's table privileges (postgres.clj, current-user-table-privileges), which its sync reads
# for each database (its sync-table-privileges step), as the driver writes it.
METABASE_TABLE_PRIVILEGES = """with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'update') as update,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'select') as select,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(current_user, '"' || t.schemaname || '"' || '.' || '"' || t.objectname || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t"""  # noqa: E501


def test_metabase_reads_table_privileges(shop: Server) -> None:
    """Metabase's sync step that reads table privileges failed on pg_matviews ("Table with name pg_matviews does not
    exist"): DuckDB has no materialized views, so the catalogue of them is empty, as psql's \\dm says."""
    rows = _run(shop, METABASE_TABLE_PRIVILEGES)
    assert sorted((r[1], r[2], r[4]) for r in rows) == [
        ("main", "big_customers", True), ("main", "customers", True), ("main", "orders", True),
        ("main", "plain", True), ("other", "items", True), ("other", "items_v", True)]
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        assert conn.execute("SELECT schemaname, matviewname, ispopulated FROM pg_catalog.pg_matviews").fetchall() == []
