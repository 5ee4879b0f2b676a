"""modules/events/tests/doc_example.py: the documentation's Event Actions example
(reference/000_*.txt) as the events tests configure it, shared by them.

DOC_EXAMPLE has {CMP} for the comparison: `=` as written there (it fails as in
Exim 4.96) or `eq` (it works).
"""

DOC_EXAMPLE = """event_action = ${if {CMP} {msg:delivery}{$event_name} \\
{${lookup pgsql {SELECT * FROM record_Delivery( \\
    '${quote_pgsql:$sender_address_domain}',\\
    '${quote_pgsql:${lc:$sender_address_local_part}}', \\
    '${quote_pgsql:$domain}', \\
    '${quote_pgsql:${lc:$local_part}}', \\
    '${quote_pgsql:$host_address}', \\
    '${quote_pgsql:${lc:$host}}', \\
    '${quote_pgsql:$message_exim_id}')}} \\
} {}}
"""
