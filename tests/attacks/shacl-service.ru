PREFIX sh: <http://www.w3.org/ns/shacl#>
INSERT DATA { GRAPH <https://w3id.org/dprk-japan-kg/graph/shapes> {
  <http://example.org/attack#S> a sh:NodeShape ;
    sh:targetNode <http://example.org/attack#focus> ;
    sh:sparql [ a sh:SPARQLConstraint ;
      sh:message "remote" ;
      sh:select """SELECT $this ?value WHERE { SERVICE <http://$CANARY/sparql> { ?value ?p ?o } }""" ] .
} }
