
	
*chat gpt-4o²»
gen_ai.input.messages¡
ž[{"role":"user","parts":[{"type":"text","content":"Where is order 1234? It was due on Monday and the tracking page shows nothing at all."}]},{"role":"assistant","parts":[{"type":"text","content":"Where is order 1234? It was due on Monday and the tracking page shows nothing at all."}]}]²°
gen_ai.output.messages•
’[{"role":"assistant","parts":[{"type":"text","content":"Where is order 1234? It was due on Monday and the tracking page shows nothing at all."}]}]¢O[{"role":"system","parts":[{"type":"text","content":"You are Acme support."}]},ªgen_ai.input.messages²[ºgen_ai.output.messages