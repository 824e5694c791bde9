// The serializer tool: writes and reads bodies with the real .NET serializers, in batches.
//
// See Wire.cs (Json.NET, the neutral form V) and XmlWire.cs (XmlSerializer).
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
//   {"op":"write","type":T,"newline":"\r\n","values":[V...]}
//       -> {"results":[{"json":B64|null,"json_error":S|null,"xml":B64|null,"xml_error":S|null}...]}
//   {"op":"read","type":T,"format":"json"|"xml","bodies":[B64...]}
//       -> {"results":[{"value":V}|{"error":S}...]}
//   {"op":"convert","type":T,"format":"json"|"xml","newline":...,"bodies":[B64...]}
//       -> as "write", for what .NET read from each body (or {"error":S});
//       "indent":true writes both indented, as the help page's samples are
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Serialization;
using System.Text;
using System.Xml;
using System.Xml.Serialization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using ShopCtrl.Models;

namespace ShopCtrl.Conformance
{
    public static class Tool
    {
        static string Describe(Exception e)
        {
            StringBuilder sb = new StringBuilder();
            for (; e != null; e = e.InnerException)
            {
                if (sb.Length > 0) sb.Append(" --> ");
                sb.Append(e.GetType().Name).Append(": ").Append(e.Message);
            }
            return sb.ToString();
        }

        static JObject Write(JObject request)
        {
            Type type = Neutral.ModelType((string)request["type"]);
            JArray results = new JArray();
            foreach (JToken v in (JArray)request["values"])
                results.Add(Both(Neutral.Build(type, (JObject)v), NewLine(request)));
            return new JObject { { "results", results } };
        }

        static JObject Read(JObject request)
        {
            Type type = Neutral.ModelType((string)request["type"]);
            bool xml = (string)request["format"] == "xml";
            JArray results = new JArray();
            foreach (JToken b in (JArray)request["bodies"])
            {
                JObject r = new JObject();
                try
                {
                    byte[] body = Convert.FromBase64String((string)b);
                    object obj = xml ? XmlWire.ReadXml(body, type) : JsonWire.ReadJson(body, type);
                    if (obj == null) r["error"] = "null";
                    else r["value"] = Neutral.Dump(obj);
                }
                catch (Exception e) { r["error"] = Describe(e); }
                results.Add(r);
            }
            return new JObject { { "results", results } };
        }

        static JObject Both(object obj, string newline, bool indent = false)
        {
            JObject r = new JObject();
            try { r["json"] = Convert.ToBase64String(JsonWire.WriteJson(obj, indent)); }
            catch (Exception e) { r["json_error"] = Describe(e); }
            try { r["xml"] = Convert.ToBase64String(XmlWire.WriteXml(obj, newline, indent)); }
            catch (Exception e) { r["xml_error"] = Describe(e); }
            return r;
        }

        static string NewLine(JObject request)
        {
            JToken t = request["newline"];
            return t == null || t.Type == JTokenType.Null ? null : (string)t;
        }

        static JObject Convert_(JObject request)
        {
            Type type = Neutral.ModelType((string)request["type"]);
            bool xml = (string)request["format"] == "xml";
            JArray results = new JArray();
            foreach (JToken b in (JArray)request["bodies"])
            {
                object obj = null;
                string error = null;
                try
                {
                    byte[] body = Convert.FromBase64String((string)b);
                    obj = xml ? XmlWire.ReadXml(body, type) : JsonWire.ReadJson(body, type);
                    if (obj == null) error = "null";
                }
                catch (Exception e) { error = Describe(e); }
                bool indent = request["indent"] != null && (bool)request["indent"];
                results.Add(error != null ? new JObject { { "error", error } } : Both(obj, NewLine(request), indent));
            }
            return new JObject { { "results", results } };
        }

        public static int Main(string[] args)
        {
            Console.OutputEncoding = new UTF8Encoding(false);
            TextWriter output = Console.Out;
            string line;
            while ((line = Console.In.ReadLine()) != null)
            {
                JObject answer;
                try
                {
                    JObject request = JObject.Parse(line);
                    string op = (string)request["op"];
                    if (op == "write") answer = Write(request);
                    else if (op == "read") answer = Read(request);
                    else if (op == "convert") answer = Convert_(request);
                    else answer = new JObject { { "fatal", "unknown op " + op } };
                }
                catch (Exception e) { answer = new JObject { { "fatal", Describe(e) } }; }
                output.WriteLine(answer.ToString(Newtonsoft.Json.Formatting.None));
                output.Flush();
            }
            return 0;
        }
    }
}
